//! The app's JSON export: a run the page showed, replayed from its prompt and generated ids,
//! is recorded exactly as the CLI's `inspect --json` records the same run.

use headlight::Checkpoint;
use headlight::inspect::{Request, inspect, replay};
use headlight::model::generate::{Decoding, SamplingSettings};
use headlight::session::Stop;

fn bundled() -> Checkpoint {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/models/mini/");
    let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
    Checkpoint::from_bytes(&read("config.json"), &read("model.safetensors"), &read("tokenizer.json")).unwrap()
}

#[test]
fn a_replayed_run_is_recorded_as_inspect_records_it() {
    let checkpoint = bundled();
    let decoding = Decoding::Sample(SamplingSettings { temperature: 0.9, top_k: 40, top_p: 0.95, seed: 7 });
    let request = Request { prompt: "The quick brown fox".into(), generate: 6, decoding, steps: true };
    let inspected = inspect(&checkpoint, "mini", &request).unwrap();
    let generated = inspected.generated.clone().unwrap();
    let replayed = replay(&checkpoint, "mini", &request.prompt, &generated, decoding).unwrap();
    assert_eq!(replayed, inspected);
    assert_eq!(replayed.steps.as_ref().unwrap().len(), generated.len());
}

#[test]
fn a_prompt_alone_has_no_generation_fields() {
    let checkpoint = bundled();
    let replayed = replay(&checkpoint, "mini", "Hello there", &[], Decoding::Greedy).unwrap();
    let inspected = inspect(&checkpoint, "mini", &Request { prompt: "Hello there".into(), generate: 0, decoding: Decoding::Greedy, steps: false }).unwrap();
    assert_eq!((replayed.generated.as_ref(), replayed.stop, replayed.decoding), (None, None, None));
    assert_eq!(replayed.steps, Some(Vec::new()), "steps are asked for, and there are none");
    assert_eq!(replayed.attentions, inspected.attentions);
    // a run that the model ended says so
    let ended = replay(&checkpoint, "mini", "Hello", &[50256], Decoding::Greedy).unwrap();
    assert_eq!(ended.stop, Some(Stop::EndOfText));
    // ids the model cannot read are refused with a reason, not a panic
    assert!(replay(&checkpoint, "mini", "Hello", &[99_999_999], Decoding::Greedy).is_err());
}
