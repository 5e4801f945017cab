"""trips: a trip-planning agent, a team's own product tested on the golden-path harness."""
