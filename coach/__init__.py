"""Call Coach: an on-device, real-time coach for phone agents."""

__version__ = "0.1.0"
