"""Frozen copies of base.py and the game modules as they were before their derivatives, Hessian
blocks and best responses became array-API code (issue 18, commit 80afa71), importing one
another: tests/games/test_array_api_games.py compares the current NumPy results with these, bit
for bit."""
