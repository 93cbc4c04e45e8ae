import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """The offline copy of the real data (../shared/data beside the checkout)."""
    if not (SHARED / "glue" / "SST-2" / "train.tsv").exists():
        pytest.skip(f"real GLUE data not found at {SHARED} (the offline copy our machines and CI have)")
    os.environ.setdefault("NLTK_DATA", str(SHARED / "nltk_data"))
    return SHARED


@pytest.fixture
def minilm_folder():
    import models
    try:
        return models.resolve_teacher("minilm")
    except FileNotFoundError as error:
        pytest.skip(str(error))
