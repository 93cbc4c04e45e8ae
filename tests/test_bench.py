"""Tests of bench.py: which of several runs the speed table shows, that it shows every run's
ratios, and that docs/speed.md's block is written from results/bench.json and results/sst2.json."""
from tools import bench


def rows(student, large_fp32):
    made = [{"model": "BiLSTM student", "precision": "fp32", "sentences_per_second": student},
            {"model": "BERT-large shape (random)", "precision": "fp32", "sentences_per_second": large_fp32},
            {"model": "BERT-large shape (random)", "precision": "bf16 autocast", "sentences_per_second": 2 * large_fp32}]
    for r in made:
        r.update(parameters=1, parameters_without_embeddings=1, latency_ms=1.0, sentences=872,
                 student_speedup=student / r["sentences_per_second"])
    return made


def measured(runs, logits=None):
    """What bench.py saves in results/bench.json, as far as the block reads it."""
    return {"rows": bench.worst_run(runs), "runs": runs, "batch_size": 64, "bert_sentences": 872,
            "teacher_logits_augmented_sentences_per_second": logits, "machine": "x86_64, 2 threads, torch 2",
            "config": {"logits_sentences": 8192}}


def test_the_table_is_the_run_where_the_student_wins_by_least():
    runs = [rows(5000, 10), rows(4000, 10), rows(6000, 9)]     # student 500x, 400x, 667x BERT-large
    assert bench.worst_run(runs) is runs[1]
    block = bench.tables(measured(runs))
    assert "| BERT-large shape (random) | fp32 | 1 | 10.0 | 1.00 | 400x | 500x / 400x / 667x |" in block
    assert "3 runs in a row" in block and "all 872 dev sentences; x86_64, 2 threads, torch 2." in block
    assert "logits step" not in block and "make sst2" not in block


def test_the_block_adds_the_logits_speed_and_the_recorded_make_sst2():
    last = {"seconds": {"teacher": 540.0, "student": 420.0, "total": 960.0},
            "peak_rss_mb": {"teacher": 2029.4, "student": 689.3, "total": None},
            "make_wall": {"wall_seconds": 1800, "first_run_seconds": 900, "second_run_seconds": 900,
                          "killed_at_batch": 500}}
    block = bench.tables(measured([rows(5000, 10)], logits=530.4), last)
    assert "The teacher's logits step on 8,192 augmented SST-2 sentences" in block and "530 sentences/s" in block
    assert "| teacher | 9.0 | 2029.4 |\n| student | 7.0 | 689.3 |\n| total | 16.0 | - |" in block
    assert "30.0 min: killed at batch 500 of the augmented logits after 15.0 min" in block
