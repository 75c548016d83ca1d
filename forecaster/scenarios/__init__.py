"""What-ifs with their staffing cost, and send-date advice for campaigns."""
