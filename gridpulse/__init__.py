"""GridPulse (网格治理驾驶舱): figures for grid-based community governance."""
