"""Search kernels: the A* tree core (AS*, AD*, DAD*), the candidate-list methods and GPRS.

Every kernel reports one of the statuses of rec_bench.status; a kernel module also holds its
methods' runners and decoders, the compiled signatures the method registry (rec_bench.methods)
reads.
"""
