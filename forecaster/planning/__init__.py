"""Shifts (pyworkforce on CP-SAT), breaks, named rosters and spare capacity for outbound work."""
