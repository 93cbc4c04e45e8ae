"""Tests of bench.py: which of several runs the speed table shows, and that it shows every run's ratios."""
import argparse

from tools import bench


def rows(student, large_fp32):
    made = [{"model": "BiLSTM student", "precision": "fp32", "sentences_per_second": student},
            {"model": "BERT-large shape (random)", "precision": "fp32", "sentences_per_second": large_fp32},
            {"model": "BERT-large shape (random)", "precision": "bf16 autocast", "sentences_per_second": 2 * large_fp32}]
    for r in made:
        r.update(parameters=1, parameters_without_embeddings=1, latency_ms=1.0, student_speedup=student / r["sentences_per_second"])
    return made


def test_the_table_is_the_run_where_the_student_wins_by_least():
    runs = [rows(5000, 10), rows(4000, 10), rows(6000, 9)]     # student 500x, 400x, 667x BERT-large
    assert bench.worst_run(runs) is runs[1]
    args = argparse.Namespace(batch_size=64)
    block = bench.tables(args, runs, list(range(872)), 872, (None, 0), {}, None)
    assert "| BERT-large shape (random) | fp32 | 1 | 10.0 | 1.00 | 400x | 500x / 400x / 667x |" in block
    assert "3 runs in a row" in block
