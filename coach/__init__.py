"""Call Coach: an on-device, real-time coach for phone agents."""

import os

# numpy's OpenBLAS starts a thread per core and lets them spin after each small matrix
# product: the speaker split's many small products cost twice their CPU that way (0.068 vs
# 0.034 s per audio s, make bench), stolen from the recognizer on a 2-core PC. Set before
# numpy is first imported; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
