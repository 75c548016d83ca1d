"""Marketing's campaign calendar (reading, versions, submissions), the campaign-effects model and the peak warnings on submission."""
