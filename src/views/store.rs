//! The captures the views worker owns, one per [`Slot`], and the answers it computes from them.
//! Rows arrive from the inference worker as it reads; a query about positions not yet arrived
//! waits for them ([`Store::answer`] says `None`).

use std::rc::Rc;

use crate::analysis::roles::{HeadRoles, roles_of};
use crate::capture::Capture;
use crate::tokenizer::Token;
use crate::view::stream::token_weights;
use crate::views::maps;
use crate::views::query::{Query, Reply, Slot};
use crate::views::recorded::{Patterns, Recorded};

/// Whether a query's positions are there.
enum Lookup {
    Ready,
    /// Not yet: the run has not begun here, or its positions are still arriving.
    Later,
    /// A newer run took the slot.
    Gone,
}

/// Role scores of a run's first positions: `((run, n), scores)`.
type Scored = ((u32, usize), Rc<Vec<HeadRoles>>);

#[derive(Default)]
pub struct Store {
    main: Option<Recorded>,
    compare: Option<Recorded>,
    ablated: Option<Recorded>,
    patterns: Patterns,
    /// The role scores last computed, by run and positions: the roles panel and the first
    /// visit's showcase read the same.
    roles: Option<Scored>,
}

impl Store {
    fn slot(&self, slot: Slot) -> Option<&Recorded> {
        match slot {
            Slot::Main => self.main.as_ref(),
            Slot::Compare => self.compare.as_ref(),
            Slot::Ablated => self.ablated.as_ref(),
        }
    }

    fn slot_mut(&mut self, slot: Slot) -> &mut Option<Recorded> {
        match slot {
            Slot::Main => &mut self.main,
            Slot::Compare => &mut self.compare,
            Slot::Ablated => &mut self.ablated,
        }
    }

    /// Run `run` begins in `slot` (replacing the one there) with its first tokens; room is made
    /// for `reserve` positions.
    pub fn begin(&mut self, slot: Slot, run: u32, mut capture: Capture, reserve: usize, tokens: Vec<Token>) {
        capture.reserve_positions(reserve);
        *self.slot_mut(slot) = Some(Recorded { run, tokens, capture });
    }

    /// One position of run `run` in `slot`: its attention rows (layer after layer, head after
    /// head), its value norms, and the token read there if it was generated. Anything but the
    /// run's next position is ignored.
    pub fn add(&mut self, slot: Slot, run: u32, position: usize, rows: &[f32], value_norms: &[f32], token: Option<Token>) {
        let Some(recorded) = self.slot_mut(slot).as_mut().filter(|r| r.run == run && r.capture.len() == position) else { return };
        recorded.capture.append_position(rows, value_norms);
        recorded.tokens.extend(token);
    }

    fn lookup(&self, slot: Slot, run: u32, n: usize) -> Lookup {
        match self.slot(slot) {
            Some(r) if r.run > run => Lookup::Gone,
            Some(r) if r.run == run && r.capture.len() >= n && r.tokens.len() >= n => Lookup::Ready,
            _ => Lookup::Later,
        }
    }

    /// The answer to `query`; `None` while the positions it reads have not all arrived.
    pub fn answer(&mut self, query: &Query) -> Option<Result<Reply, String>> {
        for (slot, run, n) in query.reads() {
            match self.lookup(slot, run, n) {
                Lookup::Ready => {}
                Lookup::Later => return None,
                Lookup::Gone => return Some(Err("a newer run replaced this one".into())),
            }
        }
        let main = self.main.as_ref().expect("every query reads the main run");
        let patterns = &mut self.patterns;
        Some(match query {
            Query::Maps(q) => maps::maps(main, self.compare.as_ref(), patterns, q).map(|set| Reply::Maps(set.model())),
            Query::Export { maps: q, .. } => maps::maps(main, self.compare.as_ref(), patterns, q).map(|set| Reply::Export { svg: set.document(q.look.mode), name: maps::export_name(&q.look) }),
            &Query::Shade { n, ref look, focus, direction, .. } => {
                let pattern = patterns.shown(Slot::Main, main, look.source, look.hide_sink, maps::head_of(main, look), n);
                let weights = pattern.filter(|_| focus < n).map_or(vec![None; n], |p| token_weights(&p, n, focus, direction));
                Ok(Reply::Shade(weights))
            }
            &Query::Lines { n, ref look, focus, direction, .. } => maps::lines(main, patterns, n, look, focus, direction).map(Reply::Lines),
            &Query::Roles { run, n } => {
                let roles = match &self.roles {
                    Some((key, roles)) if *key == (run, n) => roles.clone(),
                    _ => Rc::new(roles_of(&main.capture, &main.ids(n))),
                };
                self.roles = Some(((run, n), roles.clone()));
                Ok(Reply::Roles(roles.to_vec()))
            }
            &Query::Ablation { n, ref look, .. } => {
                let ablated = self.ablated.as_ref().expect("read above");
                maps::ablation(main, ablated, patterns, n, look).map(Reply::Ablation)
            }
        })
    }
}
