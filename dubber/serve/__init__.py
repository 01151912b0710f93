"""dubber's models on Triton Inference Server (PyTriton), and the engines that call them."""
