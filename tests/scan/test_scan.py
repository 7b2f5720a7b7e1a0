"""commands.scan on a local Ray: a tiny folder of good, broken and missing files, a clip, every output format,
--resume, and equality with POST /predict (one Ray session for the module, 2 CPUs)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from clips import make_clip
from PIL import Image

from commands import scan
from commands.scan_io import FIELDS, arrow_schema
from pipeline.loading import load_scorer
from training.data.synthetic import synthetic_face

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(600), pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
OLD_FIELDS = [name for name in FIELDS if name != "verdict"]  # the columns of outputs written before `verdict`


def encode(image: Image.Image, fmt: str) -> bytes:
    """Image -> bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> dict[str, Path]:
    """A folder of 5 images, a clip and a broken file, plus a list file naming 3 of them and a missing one."""
    root = tmp_path_factory.mktemp("archive")
    photos = root / "photos"
    (photos / "nested").mkdir(parents=True)
    for seed in range(4):
        (photos / f"face{seed}.jpg").write_bytes(encode(synthetic_face(seed % 2, seed, 128), "JPEG"))
    (photos / "nested" / "face9.png").write_bytes(encode(synthetic_face(1, 9, 160), "PNG"))
    (photos / "nested" / "clip.mp4").write_bytes(make_clip(1.0, 8, (160, 120), face=synthetic_face(0, 3, 64)))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (photos / "notes.md").write_text("not a scanned extension")
    listing = root / "some.txt"
    listing.write_text("# three files and one that is gone\nphotos/face0.jpg\nphotos/face1.jpg\n"
                       f"{photos / 'broken.jpg'}\nphotos/gone.jpg\n")
    return {"root": root, "photos": photos, "list": listing}


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module (starting it takes seconds): 3 logical CPUs, 2 actors and a reader."""
    ray = pytest.importorskip("ray")
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024 * 1024,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def read_rows(path: Path) -> list[dict]:
    """The rows of a scan output in any format, as dicts of Python values."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    return list(csv.DictReader(path.open(newline="")))


def write_old_output(path: Path, rows: list[dict]) -> None:
    """A scan output as the version before the `verdict` column wrote it."""
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([field for field in arrow_schema() if field.name != "verdict"])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=OLD_FIELDS)
            writer.writeheader()
            writer.writerows(rows)


def run(inputs: list, output: Path, checkpoint: Path, *extra: str) -> int:
    """commands.scan.main with the tiny checkpoint."""
    return scan.main([*map(str, inputs), "--output", str(output), "--checkpoint", str(checkpoint), "--batch-size", "3",
                      *extra])


@pytest.fixture(scope="module")
def jsonl_scan(ray_session, archive, tiny_checkpoint, tmp_path_factory) -> list[dict]:
    """The folder and the list file scanned once to JSON Lines, by path."""
    output = tmp_path_factory.mktemp("scan") / "result.jsonl"
    assert run([archive["photos"], archive["list"]], output, tiny_checkpoint, "--num-actors", "2") == 0
    return {row["path"]: row for row in read_rows(output)}


def test_every_file_gets_one_row_and_broken_ones_an_error(jsonl_scan, archive, tiny_checkpoint):
    photos = archive["photos"]
    expected = {str(photos / name) for name in ("face0.jpg", "face1.jpg", "face2.jpg", "face3.jpg", "broken.jpg",
                                                "nested/face9.png", "nested/clip.mp4", "gone.jpg")}
    assert set(jsonl_scan) == expected
    broken = jsonl_scan[str(photos / "broken.jpg")]
    assert broken["label"] == broken["verdict"] == "error" and "not a readable image" in broken["error"]
    assert jsonl_scan[str(photos / "gone.jpg")]["error"] == "missing"
    assert jsonl_scan[str(photos / "gone.jpg")]["verdict"] == "error"
    good = [row for row in jsonl_scan.values() if not row["error"]]
    assert len(good) == 6 and all(row["label"] in ("real", "fake") and row["model"] == "best" for row in good)
    scorer = load_scorer(tiny_checkpoint, "torch", "cpu")
    assert [row["verdict"] for row in good] == [scorer.verdict(row["probability_fake"]) for row in good]
    assert jsonl_scan[str(photos / "nested/clip.mp4")]["media"] == "video"


def test_scan_equals_post_predict(jsonl_scan, archive, tiny_checkpoint, tmp_path):
    """Same crops, same probabilities: the server's answer for every good file, image or clip."""
    import shutil

    from backend import create_app

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "best.pt")
    client = create_app({"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path / "no-page"),
                         "THREADS": 1, "ACCESS_LOG": False}).test_client()
    for path, row in jsonl_scan.items():
        if row["error"]:
            continue
        answer = client.post("/predict", data=Path(path).read_bytes(), content_type="application/octet-stream")
        body = answer.get_json()
        assert answer.status_code == 200, body
        assert row["probability_fake"] == pytest.approx(body["probability_fake"], abs=1e-5), path
        assert (row["label"], row["verdict"], row["face_detected"], row["model_version"], row["kind"]) == (
            body["label"], body["verdict"], body["face_detected"], body["model"]["version"], body["kind"])
        assert row["provenance_verdict"] == body["provenance"]["verdict"]


def test_rows_name_the_kind_of_fake_of_a_model_with_a_kind_head(tmp_path):
    """The actor's rows (no Ray needed to build one) carry kind and one kind_probability_<kind> column per kind."""
    from kind_model import kind_image, write_kind_checkpoint

    from commands.scan_io import FIELDS

    classifier = scan.FileClassifier(str(write_kind_checkpoint(tmp_path / "kinds.pt")), "onnx", None, 4, False)
    rows = classifier.classify(["a.png", "b.png"], [encode(kind_image("diffusion"), "PNG"), b"not an image"])
    assert [sorted(row) for row in rows] == [sorted(FIELDS)] * 2
    assert rows[0]["kind"] == "diffusion" and rows[0]["kind_probability_diffusion"] > 0.8
    assert sum(rows[0][f"kind_probability_{kind}"] for kind in ("gan", "diffusion", "swap")) == pytest.approx(1)
    assert rows[1]["kind"] is None and rows[1]["kind_probability_gan"] is None
    assert (rows[0]["verdict"], rows[1]["verdict"]) == ("fake", "error")


def test_rows_carry_the_servers_three_way_verdict(tmp_path):
    """A P(fake) of 0.953 under a 0.99 threshold: label real, verdict uncertain (from 0.7 x 0.99), as Scorer says."""
    from kind_model import kind_image, write_kind_checkpoint

    checkpoint = write_kind_checkpoint(tmp_path / "kinds.pt", threshold=0.99)
    classifier = scan.FileClassifier(str(checkpoint), "onnx", None, 4, False)
    rows = classifier.classify(["a.png", "b.png"], [encode(kind_image("swap"), "PNG"), b"not an image"])
    assert rows[0]["probability_fake"] == pytest.approx(0.953, abs=1e-3)
    assert (rows[0]["label"], rows[0]["verdict"], rows[0]["kind"]) == ("real", "uncertain", "swap")
    assert rows[0]["verdict"] == classifier.scorer.verdict(rows[0]["probability_fake"])
    assert (rows[1]["label"], rows[1]["verdict"]) == ("error", "error")


def test_parquet_and_csv_hold_the_same_rows(jsonl_scan, archive, tiny_checkpoint, tmp_path):
    for name in ("result.parquet", "result.csv"):
        output = tmp_path / name
        assert run([archive["photos"]], output, tiny_checkpoint) == 0
        rows = {row["path"]: row for row in read_rows(output)}
        assert set(rows) == set(jsonl_scan) - {str(archive["photos"] / "gone.jpg")}
        for path, row in rows.items():
            expected = jsonl_scan[path]
            assert row["label"] == expected["label"]
            if not expected["error"]:
                assert float(row["probability_fake"]) == pytest.approx(expected["probability_fake"], abs=1e-6)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resume_skips_files_already_in_the_output(archive, tiny_checkpoint, tmp_path, suffix):
    output = tmp_path / f"resumed{suffix}"
    assert run([archive["list"]], output, tiny_checkpoint) == 0
    first = read_rows(output)
    assert len(first) == 4
    assert run([archive["photos"], archive["list"]], output, tiny_checkpoint, "--resume") == 0
    rows = read_rows(output)
    paths = [row["path"] for row in rows]
    assert len(paths) == len(set(paths)) == 8
    assert rows[:4] == first  # the earlier rows are kept as they were, not scanned again
    assert run([archive["photos"]], output, tiny_checkpoint, "--resume") == 0  # nothing left: no Ray work
    assert len(read_rows(output)) == 8


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_resume_from_an_output_written_before_the_verdict_column(archive, tiny_checkpoint, tmp_path, capsys, suffix):
    """Days of rows already written stay as they were; new rows line up with the file's columns (CSV: its header)."""
    photos = archive["photos"]
    output = tmp_path / f"older{suffix}"
    write_old_output(output, [{**dict.fromkeys(OLD_FIELDS), "path": str(photos / "face0.jpg"), "media": "image",
                               "label": "fake", "probability_fake": 0.75, "face_detected": True, "faces": 1,
                               "model": "best", "model_version": "0123456789ab", "error": "",
                               "provenance_verdict": "unknown", "provenance_source": ""}])
    [before] = read_rows(output)
    assert run([archive["list"]], output, tiny_checkpoint, "--resume") == 0
    after = read_rows(output)
    assert {key: after[0][key] for key in before} == before
    rows = {row["path"]: row for row in after}
    assert len(after) == len(rows) == 4
    new, broken, gone = (rows[str(photos / name)] for name in ("face1.jpg", "broken.jpg", "gone.jpg"))
    assert (new["model"], new["error"], broken["label"], gone["error"]) == ("best", "", "error", "missing")
    probability = float(new["probability_fake"])
    scorer = load_scorer(tiny_checkpoint, "torch", "cpu")
    assert 0 <= probability <= 1 and new["label"] == scorer.label(probability).lower()
    if suffix == ".csv":
        assert output.read_text().splitlines()[0] == ",".join(OLD_FIELDS)  # one header, the file's own
        assert {len(line) for line in csv.reader(output.open(newline=""))} == {len(OLD_FIELDS)}
        assert "without the verdict column" in capsys.readouterr().err
    else:
        assert after[0].get("verdict") is None
        assert (new["verdict"], broken["verdict"], gone["verdict"]) == (scorer.verdict(probability), "error", "error")


def test_resume_refuses_a_csv_that_is_not_a_scan_output(archive, tiny_checkpoint, tmp_path, capsys):
    output = tmp_path / "other.csv"
    output.write_text("file,label\nx.jpg,real\n")
    assert run([archive["list"]], output, tiny_checkpoint, "--resume") == 2
    assert "not a scan output (no path column)" in capsys.readouterr().err
    assert output.read_text() == "file,label\nx.jpg,real\n"


@pytest.mark.parametrize("argv, message", [
    (["--output", "out.xlsx"], "must end in .parquet, .csv or .jsonl"),
    (["--output", "out.csv", "--num-actors", "0"], "--num-actors must be at least 1"),
    (["--output", "out.csv", "--checkpoint", "nope.pt"], "No such checkpoint"),
])
def test_bad_arguments_exit_2_with_one_sentence(archive, tmp_path, capsys, argv, message):
    assert scan.main([str(archive["photos"]), *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_input_exits_2(tmp_path, capsys):
    assert scan.main([str(tmp_path / "nowhere"), "--output", str(tmp_path / "out.csv")]) == 2
    assert "No such file or folder" in capsys.readouterr().err
