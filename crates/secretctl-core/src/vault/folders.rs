//! Folders (SPEC §3.3): a tree that secrets are filed in, for people and the desktop app.
//!
//! Folders organise; they guard nothing. A folder's name is sealed like a secret's columns
//! (associated data: vault id, folder id, `encrypted_name`), so names stay private at rest and a
//! name cannot be moved to another folder row unnoticed. The parent links are plaintext and
//! carry no MAC: editing them only rearranges the tree, and a secret's own `folder_id` is covered
//! by its row MAC. A tree edited into a cycle or pointing at a missing parent is read as if the
//! broken folders were not there, never as an error that locks the user out of their secrets.

use super::{Error, Keys, Result, Session, new_uuid, now, parse_uuid, seal_row, ts};
use crate::audit::{Action, Source};
use crate::secret::{FolderPath, MAX_FOLDER_DEPTH};
use jiff::Timestamp;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::Path;

/// One folder, as `folder list` and `folder info` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// Where it is.
    pub path: FolderPath,
    /// Secrets filed directly in it.
    pub secrets: usize,
    /// Folders directly in it.
    pub subfolders: usize,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// When it was last renamed or moved.
    pub updated_at: Option<Timestamp>,
}

/// One decrypted folder row.
pub(super) struct Node {
    pub(super) id: String,
    name: String,
    parent: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// Every folder of the vault, names decrypted.
pub(super) struct Tree {
    nodes: Vec<Node>,
}

const NAME_COLUMN: &str = "encrypted_name";

impl Tree {
    pub(super) fn load(conn: &Connection, db: &Path, keys: &Keys) -> Result<Tree> {
        let mut stmt = conn
            .prepare("SELECT id, encrypted_name, parent_id, created_at, updated_at FROM folders")
            .map_err(|e| Error::sql(db, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(|e| Error::sql(db, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| Error::sql(db, e))?;
        let mut nodes = Vec::with_capacity(rows.len());
        for (id, blob, parent, created_at, updated_at) in rows {
            let damaged = || Error::Damaged {
                path: db.to_owned(),
                reason: format!("the name of folder record {id} fails to decrypt"),
            };
            let record = parse_uuid(&id).ok_or_else(damaged)?;
            let plain = keys.open(&record, NAME_COLUMN, &blob).ok_or_else(damaged)?;
            let name = String::from_utf8(plain.to_vec()).map_err(|_| damaged())?;
            nodes.push(Node {
                id,
                name,
                parent,
                created_at,
                updated_at,
            });
        }
        Ok(Tree { nodes })
    }

    fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The path of a folder; `None` for a missing folder or a broken tree (a cycle, a missing
    /// parent, a name that no longer passes the rules).
    pub(super) fn path_of(&self, id: &str) -> Option<FolderPath> {
        let mut names = Vec::new();
        let mut at = self.node(id)?;
        loop {
            names.push(at.name.clone());
            if names.len() > MAX_FOLDER_DEPTH {
                return None;
            }
            match &at.parent {
                None => break,
                Some(parent) => at = self.node(parent)?,
            }
        }
        names.reverse();
        FolderPath::from_names(names).ok()
    }

    /// Every folder with a readable path, sorted by path.
    fn paths(&self) -> Vec<(&Node, FolderPath)> {
        let mut all: Vec<_> = self
            .nodes
            .iter()
            .filter_map(|n| self.path_of(&n.id).map(|p| (n, p)))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all
    }

    pub(super) fn find(&self, path: &FolderPath) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name == path.name() && self.path_of(&n.id).as_ref() == Some(path))
    }

    /// The folder at `path`, or [`Error::NoFolder`].
    pub(super) fn require(&self, path: &FolderPath) -> Result<&Node> {
        self.find(path)
            .ok_or_else(|| Error::NoFolder(path.to_string()))
    }

    /// Ids of the folder at `path` and every folder below it.
    pub(super) fn subtree(&self, path: &FolderPath) -> Vec<String> {
        self.paths()
            .into_iter()
            .filter(|(_, p)| p.is_within(path))
            .map(|(n, _)| n.id.clone())
            .collect()
    }
}

fn secret_counts(conn: &Connection, db: &Path) -> Result<HashMap<String, usize>> {
    let mut stmt = conn
        .prepare("SELECT folder_id, COUNT(*) FROM secrets WHERE folder_id IS NOT NULL GROUP BY folder_id")
        .map_err(|e| Error::sql(db, e))?;
    stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
    })
    .map_err(|e| Error::sql(db, e))?
    .collect::<rusqlite::Result<_>>()
    .map_err(|e| Error::sql(db, e))
}

fn info(tree: &Tree, counts: &HashMap<String, usize>, node: &Node, path: FolderPath) -> FolderInfo {
    FolderInfo {
        secrets: counts.get(&node.id).copied().unwrap_or(0),
        subfolders: tree
            .nodes
            .iter()
            .filter(|n| {
                n.parent.as_deref() == Some(node.id.as_str()) && tree.path_of(&n.id).is_some()
            })
            .count(),
        created_at: ts(node.created_at),
        updated_at: ts(node.updated_at),
        path,
    }
}

/// Creates the folder at `path` and any missing folder above it, inside the caller's
/// transaction; returns the folder's id. An existing folder is reused.
pub(super) fn ensure(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    path: &FolderPath,
) -> Result<String> {
    let tree = Tree::load(conn, db, keys)?;
    let mut parent: Option<String> = None;
    let mut at: Option<FolderPath> = None;
    for name in path.names() {
        let here = match &at {
            None => FolderPath::from_names(vec![name.clone()])?,
            Some(p) => p.child(name)?,
        };
        let id = match tree.find(&here) {
            Some(node) => node.id.clone(),
            None => insert(conn, db, keys, name, parent.as_deref())?,
        };
        parent = Some(id);
        at = Some(here);
    }
    Ok(parent.expect("a folder path has at least one name"))
}

fn insert(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    name: &str,
    parent: Option<&str>,
) -> Result<String> {
    let id = new_uuid();
    let now_ms = now().as_millisecond();
    conn.execute(
        "INSERT INTO folders (id, encrypted_name, parent_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![
            id.to_string(),
            keys.seal(id.as_bytes(), NAME_COLUMN, name.as_bytes()),
            parent,
            now_ms
        ],
    )
    .map_err(|e| Error::sql(db, e))?;
    Ok(id.to_string())
}

impl Session {
    /// Every folder, sorted by path, with the number of secrets and folders directly in each.
    pub fn folder_list(&mut self, source: Source) -> Result<Vec<FolderInfo>> {
        let db = self.vault.dir.db();
        self.audited(Action::FolderList, None, source, |conn, keys, detail| {
            let tree = Tree::load(conn, &db, keys)?;
            let counts = secret_counts(conn, &db)?;
            let out: Vec<FolderInfo> = tree
                .paths()
                .into_iter()
                .map(|(node, path)| info(&tree, &counts, node, path))
                .collect();
            detail.insert("count".into(), out.len().into());
            Ok(out)
        })
    }

    /// One folder.
    pub fn folder_info(&mut self, path: &FolderPath, source: Source) -> Result<FolderInfo> {
        let db = self.vault.dir.db();
        self.audited(Action::FolderList, None, source, |conn, keys, _| {
            let tree = Tree::load(conn, &db, keys)?;
            let counts = secret_counts(conn, &db)?;
            let node = tree.require(path)?;
            Ok(info(&tree, &counts, node, path.clone()))
        })
    }

    /// Creates the folder at `path`, and any missing folder above it (like `mkdir -p`, except
    /// that the folder itself must be new).
    pub fn folder_create(&mut self, path: &FolderPath, source: Source) -> Result<()> {
        let db = self.vault.dir.db();
        self.audited(Action::FolderCreate, None, source, |conn, keys, _| {
            if Tree::load(conn, &db, keys)?.find(path).is_some() {
                return Err(Error::FolderExists(path.to_string()));
            }
            ensure(conn, &db, keys, path).map(drop)
        })
    }

    /// Renames a folder in place; its secrets and subfolders go with it.
    pub fn folder_rename(
        &mut self,
        path: &FolderPath,
        new_name: &str,
        source: Source,
    ) -> Result<()> {
        let db = self.vault.dir.db();
        let target = match path.parent() {
            Some(parent) => parent.child(new_name)?,
            None => FolderPath::from_names(vec![new_name.to_owned()])?,
        };
        self.audited(Action::FolderRename, None, source, |conn, keys, _| {
            let tree = Tree::load(conn, &db, keys)?;
            let id = tree.require(path)?.id.clone();
            if tree.find(&target).is_some() {
                return Err(Error::FolderExists(target.to_string()));
            }
            let record = parse_uuid(&id).expect("a loaded folder has a valid id");
            conn.execute(
                "UPDATE folders SET encrypted_name = ?1, updated_at = ?2 WHERE id = ?3",
                params![
                    keys.seal(&record, NAME_COLUMN, new_name.as_bytes()),
                    now().as_millisecond(),
                    id
                ],
            )
            .map_err(|e| Error::sql(&db, e))?;
            Ok(())
        })
    }

    /// Moves a folder, with everything in it, into `to` (`None`: the top level).
    pub fn folder_move(
        &mut self,
        path: &FolderPath,
        to: Option<&FolderPath>,
        source: Source,
    ) -> Result<()> {
        let db = self.vault.dir.db();
        let target = match to {
            Some(parent) => parent.child(path.name())?,
            None => FolderPath::from_names(vec![path.name().to_owned()])?,
        };
        self.audited(Action::FolderMove, None, source, |conn, keys, _| {
            let tree = Tree::load(conn, &db, keys)?;
            let id = tree.require(path)?.id.clone();
            let parent = match to {
                Some(p) if p.is_within(path) => {
                    return Err(Error::FolderCycle(format!(
                        "cannot move folder '{path}' into itself ('{p}')"
                    )));
                }
                Some(p) => Some(tree.require(p)?.id.clone()),
                None => None,
            };
            if tree.find(&target).is_some() {
                return Err(Error::FolderExists(target.to_string()));
            }
            if target.names().len() + deepest_below(&tree, path) > MAX_FOLDER_DEPTH {
                return Err(Error::FolderCycle(format!(
                    "moving folder '{path}' there would nest folders more than {MAX_FOLDER_DEPTH} deep"
                )));
            }
            conn.execute(
                "UPDATE folders SET parent_id = ?1, updated_at = ?2 WHERE id = ?3",
                params![parent, now().as_millisecond(), id],
            )
            .map_err(|e| Error::sql(&db, e))?;
            Ok(())
        })
    }

    /// Deletes a folder. Secrets are never deleted with it: without `force` a folder that holds
    /// secrets or folders is refused; with `force` the folder and every folder below it go, and
    /// their secrets are taken out of any folder. Returns how many secrets were taken out.
    pub fn folder_delete(
        &mut self,
        path: &FolderPath,
        force: bool,
        source: Source,
    ) -> Result<usize> {
        let db = self.vault.dir.db();
        self.audited(Action::FolderDelete, None, source, |conn, keys, detail| {
            let tree = Tree::load(conn, &db, keys)?;
            tree.require(path)?;
            let ids = tree.subtree(path);
            let counts = secret_counts(conn, &db)?;
            let held: usize = ids.iter().filter_map(|id| counts.get(id)).sum();
            if !force && (ids.len() > 1 || held > 0) {
                return Err(Error::FolderNotEmpty(format!(
                    "folder '{path}' holds {held} secret(s) and {} folder(s); pass --force to delete \
                     it and take its secrets out of any folder",
                    ids.len() - 1
                )));
            }
            let mut released = 0;
            for id in &ids {
                let secret_ids: Vec<String> = {
                    let mut stmt = conn
                        .prepare("SELECT id FROM secrets WHERE folder_id = ?1")
                        .map_err(|e| Error::sql(&db, e))?;
                    stmt.query_map(params![id], |r| r.get(0))
                        .map_err(|e| Error::sql(&db, e))?
                        .collect::<rusqlite::Result<_>>()
                        .map_err(|e| Error::sql(&db, e))?
                };
                for secret in &secret_ids {
                    conn.execute(
                        "UPDATE secrets SET folder_id = NULL WHERE id = ?1",
                        params![secret],
                    )
                    .map_err(|e| Error::sql(&db, e))?;
                    seal_row(conn, &db, keys, secret)?;
                }
                released += secret_ids.len();
            }
            // Children before parents, for the REFERENCES constraint.
            for id in ids.iter().rev() {
                conn.execute("DELETE FROM folders WHERE id = ?1", params![id])
                    .map_err(|e| Error::sql(&db, e))?;
            }
            detail.insert("folders".into(), ids.len().into());
            detail.insert("secrets_released".into(), released.into());
            Ok(released)
        })
    }
}

/// How many levels of folders sit below `path` (0 for a leaf).
fn deepest_below(tree: &Tree, path: &FolderPath) -> usize {
    tree.paths()
        .into_iter()
        .filter(|(_, p)| p.is_within(path))
        .map(|(_, p)| p.names().len() - path.names().len())
        .max()
        .unwrap_or(0)
}
