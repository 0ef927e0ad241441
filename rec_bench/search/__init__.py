"""Search kernels: the A* tree core (AS*, AD*, DAD*) and the candidate-list methods.

Every kernel reports one of these statuses.
"""

OK = 0  # finished: the sample is a sample of the method's law
CENSORED = 1  # the step budget ran out first
EMPTY_REGION = 2  # a decoder's path leads to a region of zero probability (a corrupted code)
INTERRUPTED = 3  # Ctrl-C arrived while the kernel ran (rec_bench._signals)
