-- A random token per pull change: a laptop sends the token of the change
-- at its cursor with its next pull, so a server restored from an earlier
-- copy (whose change log no longer holds that change, or holds another
-- change under the same seq) is found out by the pull (syncer.Diverged).
-- Every insert sets it with random(); the trigger covers any that does not.
ALTER TABLE changes ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
UPDATE changes SET token = random();
CREATE TRIGGER changes_token AFTER INSERT ON changes WHEN NEW.token = 0
BEGIN
	UPDATE changes SET token = random() WHERE seq = NEW.seq;
END;
