"""localmarathon: a local Marathon API server (1.10 by default, 1.4-1.11 on request) running tasks as local
processes."""

__version__ = "0.1.0"
