"""MIDI normalisation and segmentation: Score -> EncodedPiece, and folders -> datasets.

Public API:

* :func:`core.preprocess.encode.encode_score` ``(score, options=EncodeOptions(), source="")`` ->
  ``EncodeResult(piece: EncodedPiece | None, report: FileReport)``; never raises for music it cannot
  represent (what it drops is counted in the report);
* :class:`core.preprocess.report.EncodeOptions` (instrument table, original meters only) and
  :class:`core.preprocess.report.FileReport`;
* :func:`core.preprocess.dataset.preprocess_folder` ``(in_dir, out_dir, jobs, redo, options, progress,
  cancel)`` and :func:`core.preprocess.dataset.load_dataset` ``(folder, progress, cancel)`` ->
  ``Dataset(pieces, manifest)``;
* :func:`core.preprocess.stats.dataset_stats` and ``format_stats``.

The stages, one module each: :mod:`tokenize` (2.2-2.3), :mod:`normalize` (2.5), :mod:`segment`
(2.4, 2.6, 2.7), :mod:`vectors` (2.8, 2.10), :mod:`encode` (the whole chain).
"""
