"""The synthetic demo population: users, a mission catalog on real places, and their activity."""
