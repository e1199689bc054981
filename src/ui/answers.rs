//! The questions asked of the inference worker that need a forward pass of their own
//! (predictions, the logit lens, inside one head, ablation, the repeat test), and their answers.

use leptos::prelude::*;

use crate::analysis::probe::{Answer, Question};
use crate::worker::protocol::ToWorker;

/// Answers kept; older ones are asked again when needed.
const KEPT: usize = 8;

/// One question asked of the worker about some ids, and its answer once it arrives.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    id: u32,
    ids: Vec<u32>,
    question: Question,
    answer: Option<Result<Answer, String>>,
}

/// The questions asked of the worker and their answers, newest last.
#[derive(Clone, Copy)]
pub struct Analyses {
    asked: RwSignal<Vec<Asked>>,
    next: StoredValue<u32>,
}

impl Analyses {
    pub fn new() -> Self {
        Analyses { asked: RwSignal::new(Vec::new()), next: StoredValue::new(0) }
    }

    /// Records a question about `ids` and gives the message that asks it, unless that question is
    /// answered or on its way already (a failed answer is asked again).
    pub fn ask(&self, ids: Vec<u32>, question: Question) -> Option<ToWorker> {
        let known = self.asked.with_untracked(|asked| asked.iter().any(|a| a.ids == ids && a.question == question && !matches!(a.answer, Some(Err(_)))));
        if known {
            return None;
        }
        let id = self.next.get_value() + 1;
        self.next.set_value(id);
        let message = ToWorker::Analyse { id, ids: ids.clone(), question: question.clone() };
        self.asked.update(|asked| {
            asked.retain(|a| !(a.ids == ids && a.question == question));
            asked.push(Asked { id, ids, question, answer: None });
            if asked.len() > KEPT {
                asked.remove(0);
            }
        });
        Some(message)
    }

    /// The answer about `ids`; `None` while it is on its way, or if it was never asked.
    pub fn answer(&self, ids: &[u32], question: &Question) -> Option<Result<Answer, String>> {
        self.asked.with(|asked| asked.iter().rev().find(|a| a.ids == ids && &a.question == question).and_then(|a| a.answer.clone()))
    }

    /// The id of the answered question about `ids` (the views worker keeps an ablated run's
    /// capture under it).
    pub fn answered(&self, ids: &[u32], question: &Question) -> Option<u32> {
        self.asked.with(|asked| asked.iter().rev().find(|a| a.ids == ids && &a.question == question && matches!(a.answer, Some(Ok(_)))).map(|a| a.id))
    }

    pub fn receive(&self, id: u32, answer: Result<Answer, String>) {
        self.asked.update(|asked| {
            if let Some(a) = asked.iter_mut().find(|a| a.id == id) {
                a.answer = Some(answer);
            }
        });
    }

    /// Forgets every answer (another model is loaded).
    pub fn clear(&self) {
        self.asked.set(Vec::new());
    }
}

