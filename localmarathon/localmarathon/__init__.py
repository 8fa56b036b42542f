"""localmarathon: a local Marathon 1.10 API server running tasks as local processes."""

__version__ = "0.1.0"
# The Marathon release whose API this server reproduces (shown in /v2/info).
MARATHON_VERSION = "1.10.26"
