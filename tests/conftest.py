import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture
def shared_data():
    """The real data, found as the project finds it (data.find_data_dir: DATA_DIR, else
    ../shared/data beside the checkout, our machines' and CI's offline copy, else ./data)."""
    import data
    folder = data.find_data_dir()
    if not (folder / "glue" / "SST-2" / "train.tsv").exists():
        pytest.skip(f"real GLUE data not found at {folder} (set DATA_DIR, or see README: Data)")
    os.environ.setdefault("NLTK_DATA", str(folder / "nltk_data"))
    return folder


@pytest.fixture
def minilm_folder():
    import models
    try:
        return models.resolve_teacher("minilm")
    except FileNotFoundError as error:
        pytest.skip(str(error))
