"""Spatial code: the grid tiling of the demo street, point-in-grid joins, display shapes."""
