"""Forecasting models behind one interface (fit, predict, alias); the registry names them."""
