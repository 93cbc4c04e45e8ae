"""Tools around the method: the results report, the time estimate, the speed table."""
