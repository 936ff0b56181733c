"""Files users can trust: atomic output writing, tables and figures, model files, EDF+.

One module per job, public names re-exported here:

- atomic files (``_atomic``): every file the package writes (CSV, JSON, PNG, model files,
  EDF+ annotations) goes through :func:`atomic_write`: the content is written to a temporary
  file in the destination folder and renamed over the destination only once it is complete,
  so a crash never leaves a half-written output, and an existing output is never overwritten
  unless ``force=True``;
- tables, JSON, text and figures (``_tables``): :func:`write_table`, :func:`write_json`,
  :func:`write_text`, :func:`save_figure`;
- model files (``_model_file``): zip archives holding ``metadata.json`` (format, versions,
  channel layout, classes, feature names, a summary of the training data, the SHA-256 of the
  payload) and ``payload``, the fitted pipeline. :func:`load_model` checks the metadata
  before it reads the pipeline, so a file that is not a model is refused unread. The
  pipeline is stored with :mod:`skops.io` (no code from the file runs when it is loaded) for
  the feature pipelines, and as a pickle for the neural models and foreign estimators (see
  :func:`save_model` for why);
- EDF+ annotations (``_edf_annotations``): :func:`write_edf_annotations` writes hypnograms;
- hypnograms in the formats labs use (``_hypnograms``): :func:`read_hypnogram` and
  :func:`write_hypnogram` (the package's CSV, EDF+ annotations, one stage per line, and
  AccuSleePy's label CSV).

.. warning::
   Loading a model file whose pipeline is a pickle runs code from it: only load files you
   made or trust (``load_model(..., trust_pickle=True)``, ``--trust-pickle``).
"""

from ._atomic import atomic_outputs, atomic_write, check_folder, check_writable
from ._edf_annotations import write_edf_annotations
from ._hypnograms import (
    ACCUSLEEP_CODES,
    EDF_STAGE_TEXT,
    HYPNOGRAM_FORMATS,
    EpochLengthUnknownError,
    hypnogram_format,
    read_hypnogram,
    write_hypnogram,
)
from ._model_file import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    TRUST_NOTICE,
    ModelFile,
    describe_training_data,
    load_model,
    read_model_header,
    save_model,
)
from ._tables import (
    CSV_FLOAT_FORMAT,
    TABLE_FORMATS,
    save_figure,
    table_format,
    write_json,
    write_table,
    write_text,
)

__all__ = [
    "ACCUSLEEP_CODES",
    "CSV_FLOAT_FORMAT",
    "EDF_STAGE_TEXT",
    "HYPNOGRAM_FORMATS",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "TABLE_FORMATS",
    "TRUST_NOTICE",
    "EpochLengthUnknownError",
    "ModelFile",
    "atomic_outputs",
    "atomic_write",
    "check_folder",
    "check_writable",
    "describe_training_data",
    "hypnogram_format",
    "load_model",
    "read_hypnogram",
    "read_model_header",
    "save_figure",
    "save_model",
    "table_format",
    "write_edf_annotations",
    "write_hypnogram",
    "write_json",
    "write_table",
    "write_text",
]
