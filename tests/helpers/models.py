"""How tests run models: two CPU threads, and a tiny random translation model decoded short."""

from dubber.engines.opusmt import OpusMTConfig
from dubber.settings import RuntimeOptions

RUNTIME = RuntimeOptions(device="cpu", compute_type="int8", threads=2)
# A random model never ends a sentence by itself; keep its outputs short.
TINY_CONFIG = OpusMTConfig(max_decoding_length=16)
