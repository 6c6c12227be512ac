"""Materials data that work offline: the structure library and thermodynamic
data sources."""
