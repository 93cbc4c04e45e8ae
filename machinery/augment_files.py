"""augment_files.py -- machinery a reader may skip: the files augment.py keeps beside its output.

  * the POS-tag cache (pos_tags.json): tagging a training set costs more than augmenting it,
    so the tags are kept while the source file and its words are the same;
  * the summary (augmented.json): settings, counts, seconds and provenance of a run, and the
    line printed at its end.

Nothing here is part of Tang et al.'s method.  It imports nothing of ours but files.py.
"""
import hashlib
import time

from machinery import files


def cached_tags(path, source, columns, tag_all):
    """tag_all()'s tags of `columns` (per text column, a list of tags per sentence), kept in
    path as one space-joined string per sentence.  Made again when the source file or the words
    of `columns` differ from the ones the saved tags were made from."""
    words = hashlib.sha256(repr(columns).encode()).hexdigest()
    key = {"source": files.fingerprint(source), "words": words}

    def make():
        return [[" ".join(tags) for tags in column] for column in tag_all()]
    saved = files.cached_json(path, key, make)
    return [[tags.split() for tags in column] for column in saved]


def write_summary(out, args, made, source, originals, written, started, tagged):
    """augmented.json beside `out` and the closing line: `originals` train rows gave `written`
    new samples from args.n_iter tries each; started and tagged are the time.time() of the
    start and of the end of tagging."""
    seconds = time.time() - started
    tries = originals * args.n_iter
    dropped = tries - written
    ratio = written / max(originals, 1)
    files.record(out.with_name(out.stem + ".json"), {
        "source": str(source),
        "originals": originals,
        "written": written,
        "dropped": dropped,
        "ratio": round(ratio, 3),
        "tagging_seconds": round(tagged - started, 1),
        "seconds": round(seconds, 1),
        "sentences_per_second": round(tries / seconds, 1),
        "manifest": made,
        **files.provenance(args)}, [out])
    print(f"{originals:,} originals -> {written:,} new samples (x{ratio:.1f}); "
          f"{dropped:,} of {tries:,} tries dropped as equal to an original or an "
          f"earlier sample; {seconds:.0f}s ({tagged - started:.0f}s tagging) -> {out}")
