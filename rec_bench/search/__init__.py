"""Search kernels: the A* tree core (AS*, AD*, DAD*) and the candidate-list methods."""
