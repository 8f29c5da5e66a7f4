"""Small shared helpers, each tested on its own."""
