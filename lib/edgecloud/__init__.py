"""edgecloud: should this AI model run in the cloud, on the edge, or both? Measured, not guessed."""

__version__ = "0.1.0"
