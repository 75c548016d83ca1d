"""Forecasting contacts and handling time: the models (one class each, in a registry), selection by backtest, intervals, evaluation."""
