"""repr."""
