"""Built-in detectors: one module per ecosystem, each exposing `DETECTOR`."""
