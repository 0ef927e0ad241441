"""The one status enumeration of every compiled kernel: searches, encoders and decoders.

A kernel returns one of these numbers; the Python layer above it (rec_bench.coding) turns anything
but ``OK`` into the exception a user sees (BudgetExceeded, KeyboardInterrupt or ValueError).
"""

OK = 0  # finished: the sample is a sample of the method's law, or the code was read whole
CENSORED = 1  # the step budget ran out first
EMPTY_REGION = 2  # a decoder's path leads to a region of zero probability (a corrupted code)
INTERRUPTED = 3  # Ctrl-C arrived while the kernel ran (rec_bench._signals)
TRUNCATED = 4  # decode: the data ends inside a code
LONG_PREFIX = 5  # decode: a universal code's prefix has more zeros than any index can have
INDEX_ZERO = 6  # decode: a fixed-length heap index of 0, which names no node
INDEX_TOO_LARGE = 7  # decode: a candidate index of 2^63 or more, beyond any step budget
