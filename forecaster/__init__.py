"""forecaster: workforce planning and campaign-impact forecasting for contact centres."""

__version__ = "0.1.0"
