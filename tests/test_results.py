"""The results package: one row layout for simulate and studies, atomic files, merge, read errors."""

import numpy as np
import pandas as pd
import pytest

import rec_bench as rb
from rec_bench import results as R


def test_message_frame_is_simulates_frame():
    q, p = rb.fixed_kl(2, 12)
    df = rb.simulate("rs", q, p, np.arange(2_000), max_steps=4096)  # about a third censored
    assert df.censored.any() and not df.censored.all()
    built = R.message_frame(df.seed.to_numpy(), df.kl.to_numpy(), df.dinf.to_numpy(), df.steps.to_numpy(),
                            df.nbits.fillna(-1).to_numpy(), df.ideal_bits.to_numpy(), df["sample"].to_numpy(),
                            df.censored.to_numpy())
    assert list(built.columns) == list(R.MESSAGE_COLUMNS)
    assert {c: str(t) for c, t in built.dtypes.items()} == R.MESSAGE_COLUMNS
    assert built.nbits[built.censored].isna().all() and built.nbits[~built.censored].notna().all()
    pd.testing.assert_frame_equal(R.messages(df), built)


def test_not_run_rows_are_censored_with_zero_steps():
    f = R.not_run_frame(np.array([5, 6], np.uint64), 2.0, np.array([3.0, 4.0]))
    assert f.censored.all() and (f.steps == 0).all() and f.nbits.isna().all() and f["sample"].isna().all()
    assert f.kl.tolist() == [2.0, 2.0] and f.dinf.tolist() == [3.0, 4.0]


def _cell(index, **pair):
    values = {c: None for c in R.CELL_COLUMNS}
    values.update(study_cell=f"c{index}", cell_index=index, construction="explicit", family="F", label="l",
                  method="as*", code="elias-delta", max_steps=10, time_budget=np.nan, grid_kl=np.nan,
                  grid_dinf=np.nan, grid_info=np.nan, **pair)
    msgs = R.message_frame(np.arange(3), 1.0, 2.0, [1, 2, 3], [4, 5, 6], 0.5, [0.1, 0.2, 0.3],
                           [False, True, False])
    return R.study_rows(values, [2, 0, 1], msgs, ["", "steps", ""], 1.5)


def test_study_rows_and_merge_follow_the_layout(tmp_path):
    a, b = _cell(1, q_loc=0.5), _cell(0, q_low=0.0)
    assert list(a.columns) == [*R.CELL_COLUMNS, "q_loc", "rep", *R.MESSAGE_COLUMNS, "censor", "cell_seconds"]
    assert str(a.depth.dtype) == "Int64" and a.depth.isna().all()
    legacy = b.assign(samples_drawn=b.steps)  # a column of an older layout is dropped
    merged = R.merge([a, legacy])
    assert merged.cell_index.tolist() == [0, 0, 0, 1, 1, 1] and merged.rep.tolist() == [0, 1, 2] * 2
    assert "samples_drawn" not in merged and {"q_loc", "q_low"} <= set(merged.columns)
    assert merged.q_loc.isna().sum() == 3
    out = R.write_results(merged, tmp_path / "r.parquet", {"spec": {"name": "x"}})
    df, meta = R.read_results(out)
    pd.testing.assert_frame_equal(df, merged)
    assert meta == {"spec": {"name": "x"}}
    assert R.read_results_schema(out)[1] == meta
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(R.ResultsError, match="missing.parquet: no such file"):
        R.read_results(tmp_path / "missing.parquet")
    (tmp_path / "t.parquet").write_text("text")
    with pytest.raises(R.ResultsError, match="t.parquet: not a readable parquet file"):
        R.read_results(tmp_path / "t.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "o.parquet")
    with pytest.raises(R.ResultsError, match="holds no study rows"):
        R.read_results(tmp_path / "o.parquet")
    assert not R.is_study_output(tmp_path / "o.parquet")
