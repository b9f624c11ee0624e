// Package csvrepo is a core.MemberRepo kept in one CSV file, compatible with
// the seed prototype's member files: the registry of a small fleet that
// shares a file system, or a way to import and export member lists.
//
// # Format
//
// Columns, in order: Region, Zone, Rack, IP, Domain, Weight, HashKey,
// PEMData (the seed's eight), then optional Port and Labels, then Revision.
// HashKey is the member's NodeID in hex and must be the SHA-256 of the
// SubjectPublicKeyInfo of the certificate in PEMData (read with
// crypto/x509, which accepts ML-DSA certificates). Labels is URL query
// encoding ("k=v&k2=v2"). A row has 8, 10 or 11 fields; an optional header
// row naming the columns is skipped. [Import] and [Export] read and write
// this format on any io.Reader or io.Writer (Export writes 10 columns).
//
// The repository's own file starts with a line
// "# clustering members v1 revision=N" holding the registry revision, then a
// header and 11-column rows. A seed file (8 columns, no revision) loads with
// revisions 1..n in file order and is rewritten in the full format on the
// first write.
//
// # Safety
//
// Loading checks every row; any bad row (bad PEM, a HashKey that is not its
// certificate's, a bad weight, IP or port, a wrong field count, a duplicate)
// refuses the whole file, and the error lists each bad line. Put refuses
// members that would not load back.
//
// Writes take an exclusive flock on path+".lock" (so other processes and
// other Repo values on the same file wait), reload the file if another
// writer changed it, check the expected revision, then write a temporary
// file in the same directory, fsync it, rename it over the file and fsync
// the directory: a crash leaves the old or the new file, never a mix. On
// systems without flock only the writers of one Repo are serialised.
//
// # Watching
//
// Changes made through a Repo reach its watches at once. Changes other
// writers make are noticed when the file's identity, size or modification
// time changes: at every call, and by polling (WithPollInterval, default 1s).
// New or updated rows are replayed as events with their own revisions when
// they account for every revision since the last load; a delete by another
// writer, several updates of one member between polls, or a file edited by
// hand cannot be replayed (the file keeps no history), so watches then end
// with core.ErrCompacted and their owners List again.
package csvrepo
