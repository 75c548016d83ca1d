"""The planner report: one self-contained HTML page with inline SVG charts."""
