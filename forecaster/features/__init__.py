"""Regressors and design matrices shared by the demand models and the campaign-effects model: holidays, campaign exposure and carry-over (adstock)."""
