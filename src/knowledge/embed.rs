//! Dense embeddings: the [`Embedder`] trait and its fastembed implementation, a local ONNX model
//! run by an ONNX Runtime library loaded at run time (see `scripts/fetch-models`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fastembed::{InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use sha2::{Digest, Sha256};

use super::KbError;

/// Which side of the retrieval a text is on (asymmetric models such as e5 embed them differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    Query,
    Passage,
}

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// Names the model and its version: cached vectors are keyed by it.
    fn model_id(&self) -> &str;
    /// One vector per text, in order.
    fn embed(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>, KbError>;
}

/// The files a model directory must hold.
pub const MODEL_FILES: [&str; 5] =
    ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

/// Tokens of a text the model reads (the rest is cut). A passage's vector comes from its title,
/// headings and first 900 or so characters; BM25 still reads it whole. The first full index
/// (issue #21) fell from about 18 to 13 s against 384 tokens, with the same evaluation results:
/// docs/models.md has the measurements from 384 down to 160.
pub const MAX_TOKENS: usize = 224;

/// A sentence-embedding ONNX model (mean pooling) loaded with fastembed.
pub struct FastEmbedder {
    // fastembed's `embed` takes `&mut self`: one model shared behind a lock.
    model: Mutex<TextEmbedding>,
    id: String,
    query_prefix: String,
    passage_prefix: String,
}

impl FastEmbedder {
    /// Loads the model in `model_dir` with the ONNX Runtime library at `ort_library`. Both are
    /// checked first: ort panics (rather than failing) when it cannot open its library.
    #[tracing::instrument(skip_all, fields(model = %model_dir.display()))]
    pub fn load(model_dir: &Path, ort_library: &Path) -> Result<Self, KbError> {
        check_files(model_dir, ort_library)?;
        let read = |name: &str| -> Result<Vec<u8>, KbError> {
            let path = model_dir.join(name);
            std::fs::read(&path).map_err(|source| KbError::Io { path, source })
        };
        // The builder is not needed: fastembed's sessions use the default environment once the
        // library is loaded.
        // An absolute path: dlopen never searches the library path or the working directory
        // for a file that merely has the same name.
        let ort_library = std::fs::canonicalize(ort_library)
            .map_err(|source| KbError::Io { path: ort_library.to_path_buf(), source })?;
        drop(ort::init_from(&ort_library).map_err(|e| KbError::Model(format!("ONNX Runtime: {e}")))?);
        let onnx = read("model.onnx")?;
        let config = read("config.json")?;
        let id = model_id(model_dir, &config, onnx.len() as u64, fingerprint_ends(&onnx));
        let settings: serde_json::Value = serde_json::from_slice(&config).unwrap_or_default();
        let prefix = |key: &str| settings.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let (query_prefix, passage_prefix) = (prefix("query_prefix"), prefix("passage_prefix"));
        let files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: config,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        // One text per run is tokenised on the calling thread: tokenizers' rayon workers would
        // spin against ONNX Runtime's threads on the same cores (about 20 % slower on 2 cores).
        tokenizers::utils::parallelism::set_parallelism(false);
        let model = UserDefinedEmbeddingModel::new(onnx, files).with_pooling(Pooling::Mean);
        let options = InitOptionsUserDefined::new().with_max_length(MAX_TOKENS);
        let model =
            TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| KbError::Model(e.to_string()))?;
        Ok(FastEmbedder { model: Mutex::new(model), id, query_prefix, passage_prefix })
    }
}

/// Says what is missing, before anything is loaded: ort panics (rather than failing) when it
/// cannot open its library.
fn check_files(model_dir: &Path, ort_library: &Path) -> Result<(), KbError> {
    if !ort_library.is_file() {
        return Err(KbError::ModelMissing(format!(
            "ONNX Runtime library {} not found (run scripts/fetch-models or set ORT_DYLIB_PATH)",
            ort_library.display()
        )));
    }
    let missing: Vec<&str> = MODEL_FILES.iter().copied().filter(|f| !model_dir.join(f).is_file()).collect();
    if !missing.is_empty() {
        return Err(KbError::ModelMissing(format!(
            "embedding model files missing in {}: {} (run scripts/fetch-models or set RUNCOACH_MODEL_DIR)",
            model_dir.display(),
            missing.join(", ")
        )));
    }
    Ok(())
}

/// How many bytes at each end of the model file the fingerprint reads.
const FINGERPRINT_BYTES: usize = 65536;

/// The first and last [`FINGERPRINT_BYTES`] of a model file held in memory.
fn fingerprint_ends(onnx: &[u8]) -> (&[u8], &[u8]) {
    (
        onnx.get(..FINGERPRINT_BYTES).unwrap_or(onnx),
        onnx.get(onnx.len().saturating_sub(FINGERPRINT_BYTES)..).unwrap_or(onnx),
    )
}

/// `<dir name>@<fingerprint>`: the fingerprint covers the config, the model's size and its first
/// and last bytes, enough to tell conversions apart without hashing the whole model at every start,
/// and [`MAX_TOKENS`], which changes the vectors as much.
fn model_id(dir: &Path, config: &[u8], onnx_len: u64, (head, tail): (&[u8], &[u8])) -> String {
    let mut h = Sha256::new();
    h.update(MAX_TOKENS.to_le_bytes());
    h.update(config);
    h.update(onnx_len.to_le_bytes());
    h.update(head);
    h.update(tail);
    let digest = h.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let name = dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    format!("{name}@{hex}")
}

/// The id [`FastEmbedder::load`] would give the model in `paths`, read from a few kilobytes of
/// its files without loading it: one-shot commands look up the cached vectors with it first.
pub fn model_id_of(paths: &ModelPaths) -> Result<String, KbError> {
    use std::io::{Read, Seek, SeekFrom};
    check_files(&paths.model_dir, &paths.ort_library)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| KbError::Io { path, source }
    };
    let config_path = paths.model_dir.join("config.json");
    let config = std::fs::read(&config_path).map_err(io(&config_path))?;
    let onnx_path = paths.model_dir.join("model.onnx");
    let mut file = std::fs::File::open(&onnx_path).map_err(io(&onnx_path))?;
    let len = file.metadata().map_err(io(&onnx_path))?.len();
    let ends = FINGERPRINT_BYTES as u64;
    let mut head = Vec::new();
    (&mut file).take(ends).read_to_end(&mut head).map_err(io(&onnx_path))?;
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(len.saturating_sub(ends))).map_err(io(&onnx_path))?;
    file.take(ends).read_to_end(&mut tail).map_err(io(&onnx_path))?;
    Ok(model_id(&paths.model_dir, &config, len, (&head, &tail)))
}

impl Embedder for FastEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    #[tracing::instrument(skip_all, fields(n = texts.len(), kind = ?kind))]
    fn embed(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>, KbError> {
        let prefix = match kind {
            TextKind::Query => &self.query_prefix,
            TextKind::Passage => &self.passage_prefix,
        };
        // One text per run: nothing is padded, a text's vector never depends on what it was
        // embedded with (activations are quantised per run), and ONNX Runtime keeps the memory
        // of one passage, not of a batch. On 2 cores it is as fast as batches of 8 (docs/models.md).
        // The lock is taken per text, so a runner's query waits for one passage, not the index.
        let mut vectors = Vec::with_capacity(texts.len());
        for text in texts {
            let mut model = self.model.lock().map_err(|_| KbError::Model("embedding model lock poisoned".into()))?;
            vectors.extend(
                model.embed(vec![format!("{prefix}{text}")], Some(1)).map_err(|e| KbError::Model(e.to_string()))?,
            );
        }
        if vectors.len() != texts.len() {
            return Err(KbError::Model(format!("{} vectors for {} texts", vectors.len(), texts.len())));
        }
        Ok(vectors)
    }
}

/// Where the model and the ONNX Runtime library are looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPaths {
    pub model_dir: PathBuf,
    pub ort_library: PathBuf,
}

/// Cosine similarity of two vectors (0 when either is empty or zero).
#[must_use]
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_and_orthogonal_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert!(cosine(&[], &[]).abs() < f32::EPSILON);
    }

    #[test]
    fn a_missing_library_or_model_is_reported_not_panicked() {
        let dir = tempfile::tempdir().unwrap();
        let err = FastEmbedder::load(dir.path(), &dir.path().join("libonnxruntime.so")).err().unwrap();
        assert!(matches!(err, KbError::ModelMissing(ref m) if m.contains("ONNX Runtime")), "{err}");
        let lib = dir.path().join("lib.so");
        std::fs::write(&lib, b"").unwrap();
        let err = FastEmbedder::load(dir.path(), &lib).err().unwrap();
        assert!(matches!(err, KbError::ModelMissing(ref m) if m.contains("model.onnx")), "{err}");
    }

    #[test]
    fn model_ids_change_with_the_model() {
        let id = |onnx: &[u8]| model_id(Path::new("models/e5"), b"{}", onnx.len() as u64, fingerprint_ends(onnx));
        assert!(id(b"onnx-a").starts_with("e5@"));
        assert_ne!(id(b"onnx-a"), id(b"onnx-b"));
    }

    #[test]
    fn the_id_read_from_the_files_is_the_loaded_models() {
        let dir = tempfile::tempdir().unwrap();
        let model_dir = dir.path().join("e5");
        std::fs::create_dir(&model_dir).unwrap();
        for name in MODEL_FILES {
            std::fs::write(model_dir.join(name), b"{}").unwrap();
        }
        let library = dir.path().join("libonnxruntime.so");
        std::fs::write(&library, b"").unwrap();
        let paths = ModelPaths { model_dir: model_dir.clone(), ort_library: library };
        // Larger than both ends together, and smaller than one end: both read paths.
        for len in [200_000usize, 1000] {
            let onnx: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(model_dir.join("model.onnx"), &onnx).unwrap();
            let expected = model_id(&model_dir, b"{}", len as u64, fingerprint_ends(&onnx));
            assert_eq!(model_id_of(&paths).unwrap(), expected);
        }
        std::fs::remove_file(model_dir.join("tokenizer.json")).unwrap();
        assert!(matches!(model_id_of(&paths), Err(KbError::ModelMissing(_))));
    }
}
