"""Compiled dispatch built from a registry: ``chain(functions, nargs)`` is ``functions[k](*args)``.

Numba cannot call through a runtime table of jitted functions without giving up inlining (a tuple
of dispatchers becomes an experimental first-class function type, called indirectly), and it does
not inline closures that take ``*args``. So the dispatcher is generated: an if-chain over the
registry's numbers, one branch per entry, of the fixed arity asked for, compiled with
``inline="always"`` so that each kernel that calls it compiles to the same code as a hand-written
chain. The generated function is never cached itself; the kernels that inline it are.
"""

from numba import njit


def chain(functions, nargs, name="dispatch"):
    """A jitted ``f(k, a0, ..., a{nargs-1})`` that returns ``functions[k](a0, ...)``.

    The last entry also serves any k out of range: callers pass validated numbers only.
    """
    if not functions:
        raise ValueError("a dispatch needs at least one function")
    args = ", ".join(f"a{i}" for i in range(nargs))
    # entries that are the same function share one branch (the custom families reuse the built-in
    # proposals' functions): each distinct function is inlined once
    distinct, numbers = [], []
    for k, f in enumerate(functions):
        for i, g in enumerate(distinct):
            if g is f:
                numbers[i].append(k)
                break
        else:
            distinct.append(f)
            numbers.append([k])
    last = len(functions) - 1
    if last not in numbers[-1]:  # the last entry also serves any k out of range: keep it last
        i = next(i for i, ks in enumerate(numbers) if last in ks)
        distinct.append(distinct.pop(i))
        numbers.append(numbers.pop(i))
    lines = [f"def {name}(k{', ' if nargs else ''}{args}):"]
    for i in range(len(distinct) - 1):
        test = " or ".join(f"k == {k}" for k in numbers[i])
        lines += [f"    if {test}:", f"        return f{i}({args})"]
    lines.append(f"    return f{len(distinct) - 1}({args})")
    namespace = {f"f{i}": f for i, f in enumerate(distinct)}
    exec(compile("\n".join(lines), f"<rec_bench dispatch {name}>", "exec"), namespace)
    return njit(inline="always")(namespace[name])
