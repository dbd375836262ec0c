"""A frozen copy of the game modules whose payoffs and gradients became array-API code (issue
18): the reference for the bit-for-bit tests in ``tests/games/test_array_api_games.py``."""
