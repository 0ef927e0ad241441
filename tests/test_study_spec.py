"""Study specs: malformed specs are refused before anything runs, naming file, key path and expectation."""

import textwrap

import pytest

from rec_bench.study import SpecError, check_spec

GOOD = """
name: ok
seed: 1
output: out.parquet
repetitions: 10
pairs: {construction: fixed_kl, kl: 2, dinf: [3, 8]}
methods: [as*, {name: dad*, extra_bits: [0, 2]}, {name: orc, bits: [4]}]
plots: [{kind: runtime_vs_dinf}]
"""

BAD = {  # spec text -> (key path expected in the message, words expected in the message)
    "missing_name": (GOOD.replace("name: ok\n", ""), "<top level>", "'name' is a required property"),
    "unknown_method": (GOOD.replace("[as*,", "[as*, foo,"), "methods[1]", "'foo' is not one of"),
    "dinf_not_number": (GOOD.replace("dinf: [3, 8]", "dinf: [3, eight]"), "pairs.dinf[1]",
                        "not of type 'number'"),
    "zero_reps": (GOOD.replace("repetitions: 10", "repetitions: 0"), "repetitions", "less than the minimum"),
    "dad_without_size": (GOOD.replace("{name: dad*, extra_bits: [0, 2]}", "{name: dad*}"), "methods[1]",
                         "needs exactly one of 'depth'"),
    "orc_bits_too_big": (GOOD.replace("bits: [4]", "bits: [50]"), "methods[2].bits[0]", "maximum"),
    "exact_with_depth": (GOOD.replace("[as*,", "[{name: as*, depth: 3},"), "methods[0].depth",
                         "takes no code size"),
    "infeasible_dinf": (GOOD.replace("dinf: [3, 8]", "dinf: [2, 8]"), "pairs.dinf[0]", "not above 2.704"),
    "unknown_key": (GOOD + "budget: 3\n", "<top level>", "'budget' was unexpected"),
    "bad_plot_kind": (GOOD.replace("runtime_vs_dinf", "pie_chart"), "plots[0].kind", "is not one of"),
    "bad_output": (GOOD.replace("out.parquet", "out.csv"), "output", "does not match"),
    "fixed_kl_with_info": (GOOD.replace("dinf: [3, 8]}", "dinf: [3, 8], info: 2}"), "pairs.info",
                           "does not belong to construction"),
    "zip_lengths": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: explicit, family: Laplace/Laplace, target: {loc: [1, 2, 3], scale: [0.5, 0.25]},
        proposal: {loc: 0, scale: 1}}
methods: [as*]
""", "pairs.target.scale", "equal lengths"),
    "wrong_family_params": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: explicit, family: Triangular/Uniform, target: {loc: 1, scale: 2},
        proposal: {low: 0, high: 1}}
methods: [as*]
""", "pairs.target", "'low' is a required property"),
    "infinite_dinf_pair": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: explicit, family: Laplace/Laplace, target: {loc: 1, scale: 2},
        proposal: {loc: 0, scale: 1}}
methods: [as*]
""", "pairs (pair 0)", "D_inf is infinite"),
    "negative_code_bits": (GOOD.replace("extra_bits: [0, 2]", "extra_bits: [-5]"), "methods[1].extra_bits",
                           "below one bit at every grid point"),
    "not_yaml": ("name: [unclosed\n", "line", "not valid YAML"),
    # numbers: finite and in range
    "nan_kl": (GOOD.replace("kl: 2,", "kl: .nan,"), "pairs.kl", "nan is not a finite number"),
    "inf_dinf": (GOOD.replace("dinf: [3, 8]", "dinf: [3, .inf]"), "pairs.dinf[1]",
                 "inf is not a finite number"),
    "kl_beyond_resolution": (GOOD.replace("kl: 2,", "kl: 46,").replace("dinf: [3, 8]", "dinf: [60]"),
                             "pairs.kl",
                             "greater than the maximum of 45"),
    "dinf_too_big": (GOOD.replace("dinf: [3, 8]", "dinf: [3, 1.0e+300]"), "pairs.dinf[1]",
                     "maximum of 65536"),
    "max_steps_above_2_62": (GOOD + f"max_steps: {2**62 + 1}\n", "max_steps",
                             "maximum of 4611686018427387904"),
    "max_steps_not_integer": (GOOD + "max_steps: 100.5\n", "max_steps", "not of type 'integer'"),
    "time_budget_inf": (GOOD + "time_budget: .inf\n", "time_budget", "inf is not a finite number"),
    "time_budget_zero": (GOOD + "time_budget: 0\n", "time_budget", "less than or equal to the minimum of 0"),
    "repetitions_fraction": (GOOD.replace("repetitions: 10", "repetitions: 2.5"), "repetitions",
                             "not of type 'integer'"),
    "repetitions_huge": (GOOD.replace("repetitions: 10", "repetitions: 10000000000"), "repetitions",
                         "maximum"),
    "seed_negative": (GOOD.replace("seed: 1", "seed: -1"), "seed", "less than the minimum of 0"),
    "method_time_budget_nan": (GOOD.replace("{name: orc, bits: [4]}",
                                            "{name: orc, bits: [4], time_budget: .nan}"),
                               "methods[2].time_budget", "nan is not a finite number"),
    "info_out_of_range": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: gaussian_channel, info: [2, 50]}
methods: [as*]
""", "pairs.info[1]", "maximum of 45"),
    "explicit_param_nan": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: explicit, family: Laplace/Laplace, target: {loc: .nan, scale: 0.5},
        proposal: {loc: 0, scale: 1}}
methods: [as*]
""", "pairs.target.loc", "nan is not a finite number"),
    "explicit_scale_zero": ("""
name: z
seed: 1
output: o.parquet
pairs: {construction: explicit, family: Laplace/Laplace, target: {loc: 1, scale: 0},
        proposal: {loc: 0, scale: 1}}
methods: [as*]
""", "pairs (pair 0)", "scale must be positive"),
    # plots: options and the data they name, checked against the cells before the run
    "plot_unknown_option": (GOOD.replace("{kind: runtime_vs_dinf}",
                                         "{kind: runtime_vs_dinf, options: {colour: red}}"),
                            "plots[0].options.colour",
                            "takes no option 'colour'; its options: family, construction"),
    "plot_family_not_in_data": (GOOD.replace("{kind: runtime_vs_dinf}",
                                             "{kind: runtime_vs_dinf, options: {family: Laplace/Laplace}}"),
                                "plots[0].options.family", "'Laplace/Laplace' is not in the study's data"),
    "plot_method_not_in_data": (GOOD.replace("{kind: runtime_vs_dinf}",
                                             "{kind: runtime_vs_dinf, options: {methods: [rs]}}"),
                                "plots[0].options.methods",
                                "'rs' is not in the study's data, which holds method as*, dad*, orc"),
    "plot_methods_not_list": (GOOD.replace("{kind: runtime_vs_dinf}",
                                           "{kind: runtime_vs_dinf, options: {methods: as*}}"),
                              "plots[0].options.methods", "must be a non-empty list of method names"),
    "plot_kind_without_its_data": (GOOD.replace("{kind: runtime_vs_dinf}", "{kind: runtime_vs_info}"),
                                   "plots[0]",
                                   "'runtime_vs_info' has nothing to draw: no rows to plot"),
    "codelength_channel_on_fixed_kl": (GOOD.replace("{kind: runtime_vs_dinf}", "{kind: codelength_vs_kl}"),
                                       "plots[0]",
                                       "has nothing to draw: no gaussian_channel rows"),
    "bias_without_approximate_methods": (GOOD.replace("{kind: runtime_vs_dinf}",
                                                      "{kind: bias_vs_bits}").replace(
        "methods: [as*, {name: dad*, extra_bits: [0, 2]}, {name: orc, bits: [4]}]", "methods: [as*, ad*]"),
        "plots[0]", "has nothing to draw: no cells of the methods dad*, orc, mrc"),
    "plot_number_option_not_number": (GOOD.replace("{kind: runtime_vs_dinf}",
                                                   "{kind: codelength_vs_dinf, options: {c: one}}"),
                                      "plots[0].options.c", "c must be a finite number, got 'one'"),
    "plot_number_option_inf": (GOOD.replace("{kind: runtime_vs_dinf}",
                                            "{kind: codelength_vs_dinf, options: {c: .inf}}"),
                               "plots[0].options.c", "inf is not a finite number"),
    "two_plots_one_file": (GOOD.replace("[{kind: runtime_vs_dinf}]", "[{kind: runtime_vs_dinf, file: f},"
                                        " {kind: codelength_vs_dinf, file: f}]"),
                           "plots[1].file", "plots[0] writes the figure 'f' too"),
    "not_mapping": ("- just\n- a list\n", "<top level>", "expected a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_specs_name_file_path_and_expectation(tmp_path, case):
    text, path, words = BAD[case]
    f = tmp_path / f"{case}.yaml"
    f.write_text(textwrap.dedent(text))
    with pytest.raises(SpecError) as err:
        check_spec(f)
    msg = str(err.value)
    assert msg.startswith(f"{f}: at "), msg
    assert f"at {path}" in msg, msg
    assert words in msg, msg


def test_good_spec_expands_with_code_bits_relative_to_kl(tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text(GOOD)
    cells = check_spec(f)
    dad = [c for c in cells if c.method == "dad*"]
    assert [(c.code_bits, c.depth, c.extra_bits) for c in dad[:2]] == [(2, 1, 0), (4, 3, 2)]
    orc = [c for c in cells if c.method == "orc"]
    assert {(c.code_bits, c.bits) for c in orc} == {(4, 4)}
    assert len(cells) == 2 * 4 and len({c.id for c in cells}) == len(cells)


def test_relative_budgets_below_one_bit_are_left_out(tmp_path):
    f = tmp_path / "low.yaml"
    f.write_text(GOOD.replace("extra_bits: [0, 2]", "extra_bits: [-3, -2, -1, 0]"))  # KL = 2 bits
    dad = [c for c in check_spec(f) if c.method == "dad*"]
    assert sorted({(c.code_bits, c.extra_bits) for c in dad}) == [(1, -1), (2, 0)]


def test_seeds_depend_on_cell_parameters_not_order(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(GOOD)
    b = tmp_path / "b.yaml"
    b.write_text(GOOD.replace("dinf: [3, 8]", "dinf: [8, 5, 3]").replace("[as*, ",
                                                                         "[{name: orc, bits: 2}, as*, "))
    ca = {(c.method, c.pair.params["dinf"]): c for c in check_spec(a)}
    cb = {(c.method, c.pair.params["dinf"]): c for c in check_spec(b)}
    for key in ca:
        assert (ca[key].message_seeds() == cb[key].message_seeds()).all()
        assert ca[key].id == cb[key].id
    assert not (ca[("as*", 3.0)].message_seeds() == ca[("as*", 8.0)].message_seeds()).any()


def test_shipped_specs_are_valid():
    from pathlib import Path

    specs = sorted((Path(__file__).parents[1] / "studies").glob("*.yaml"))
    assert specs
    for s in specs:
        assert check_spec(s)


def test_a_spec_with_orc_or_mrc_bits_beyond_max_steps_is_refused(tmp_path):
    """ORC and MRC draw 2^K candidates, one step each: K above log2(max_steps) is certain to run out."""
    f = tmp_path / "orc.yaml"
    f.write_text(GOOD.replace("{name: orc, bits: [4]}", "{name: orc, bits: [4, 12], max_steps: 1000}"))
    with pytest.raises(SpecError,
                       match=r"at methods\[2\]\.bits: at .*orc with bits=12 draws 2\^12 candidates"):
        check_spec(f)
    f.write_text(GOOD.replace("{name: orc, bits: [4]}", "{name: mrc, extra_bits: 10, max_steps: 4095}"))
    with pytest.raises(SpecError, match=r"at methods\[2\]\.extra_bits: .*mrc with bits=12 .*use bits <= 11"):
        check_spec(f)


def test_shipped_specs_set_no_time_budget():
    """A time budget makes which messages run depend on the machine: the shipped specs' rows are
    decided by step budgets alone."""
    from pathlib import Path

    import yaml

    for path in sorted((Path(__file__).parents[1] / "studies").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        assert "time_budget" not in spec, path
        for m in spec["methods"]:
            assert not (isinstance(m, dict) and "time_budget" in m), (path, m)
