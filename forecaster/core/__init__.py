"""The ground floor: the site config, the error family, the site calendar and the time grid. Imports nothing else of forecaster."""
