-- A change meant for one user only: the "withdrawn" change that tells an
-- inspector's device a case was reassigned away from them.
ALTER TABLE changes ADD COLUMN for_user TEXT;
