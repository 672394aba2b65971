-- Celery's SQLAlchemy result backend (`backend='db+postgresql://…'`) reads these two tables.
-- Their shape is Celery 5.2.6's celery/backends/database/models.py (Task, TaskExtended,
-- TaskSet) as SQLAlchemy 1.4's create_all writes them, so a Celery client that connects
-- finds them and its create_all does nothing; where Celery created them first, `if not
-- exists` leaves them be and adds only the result_extended columns it may lack. `id` is
-- bigint here (Celery's Integer) so status changes never run the sequence out.
CREATE SEQUENCE IF NOT EXISTS task_id_sequence;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS celery_taskmeta (
	id bigint NOT NULL DEFAULT nextval('task_id_sequence') PRIMARY KEY,
	task_id varchar(155) UNIQUE,
	status varchar(50),
	result bytea,
	date_done timestamp without time zone,
	traceback text
);
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS name varchar(155);
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS args bytea;
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS kwargs bytea;
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS worker varchar(155);
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS retries integer;
--> statement-breakpoint
ALTER TABLE celery_taskmeta ADD COLUMN IF NOT EXISTS queue varchar(155);
--> statement-breakpoint
CREATE SEQUENCE IF NOT EXISTS taskset_id_sequence;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS celery_tasksetmeta (
	id bigint NOT NULL DEFAULT nextval('taskset_id_sequence') PRIMARY KEY,
	taskset_id varchar(155) UNIQUE,
	result bytea,
	date_done timestamp without time zone
);
--> statement-breakpoint
-- A Python pickle of a JSON value, written in SQL because no PostgreSQL extension or
-- library emits pickles and the rows must be written inside the database (the Data API
-- path included). Opcodes are CPython's (Lib/pickle.py, documented in Lib/pickletools.py):
-- PROTO 2 header, BINUNICODE strings, NONE, NEWTRUE/NEWFALSE, INT and FLOAT as decimal text
-- (any size, so big integers and floats load as Python's json.loads would give them),
-- EMPTY_DICT + SETITEM, EMPTY_LIST + APPEND, STOP. No memo: every value is written once.
-- pickle.loads(celery_pickle(v)) is json.loads of the JSON the task returned (keys in
-- jsonb's order), which test/integration/celery-results.test.ts checks.
--
-- Little-endian, as BINUNICODE's length is. IMMUTABLE and plain SQL, so it is inlined.
CREATE FUNCTION celery_pickle_uint32(n integer) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, n & 255), 1, (n >> 8) & 255), 2, (n >> 16) & 255), 3, n >> 24)
$$;
--> statement-breakpoint
-- One loop over the value with a stack of the containers it is inside, every step a simple
-- expression: recursion, set-returning functions and per-node SQL cost several times more
-- per value. An object is walked as its keyvalue() array. STABLE, as convert_to is.
CREATE FUNCTION celery_pickle(value jsonb) RETURNS bytea LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
	out bytea := '\x8002'::bytea; -- PROTO 2
	item jsonb := value;
	kind text;
	utf8 bytea;
	number text;
	walking jsonb; -- the container whose items are being written
	walking_object boolean;
	at integer; -- its next item
	parents jsonb[] := '{}';
	parent_at integer[] := '{}';
	parent_object boolean[] := '{}';
BEGIN
	LOOP
		kind := jsonb_typeof(item);
		IF kind = 'object' THEN
			out := out || '\x7d'::bytea; -- EMPTY_DICT (})
		ELSIF kind = 'array' THEN
			out := out || '\x5d'::bytea; -- EMPTY_LIST (])
		ELSIF kind = 'string' THEN
			utf8 := convert_to(item #>> '{}', 'UTF8');
			out := out || '\x58'::bytea || celery_pickle_uint32(octet_length(utf8)) || utf8; -- BINUNICODE (X): length, UTF-8
		ELSIF kind = 'number' THEN
			-- What json.loads makes of the JSON the task's JavaScript wrote: an int for digits alone,
			-- else a float. jsonb prints every number in full, so a point still marks a fraction,
			-- but JavaScript writes numbers of 1e21 and above with an exponent: from 22 digits on,
			-- a float, which loads as the very double the task returned.
			number := item #>> '{}';
			out := out || convert_to(CASE WHEN number ~ '[.eE]' OR length(ltrim(number, '-')) >= 22 THEN 'F' ELSE 'I' END || number || chr(10), 'UTF8'); -- FLOAT (F), INT (I)
		ELSIF kind = 'boolean' THEN
			out := out || CASE WHEN item = 'true'::jsonb THEN '\x88'::bytea ELSE '\x89'::bytea END; -- NEWTRUE, NEWFALSE
		ELSE
			out := out || '\x4e'::bytea; -- NONE (N)
		END IF;
		IF kind IN ('object', 'array') AND item NOT IN ('{}'::jsonb, '[]'::jsonb) THEN
			-- Into the container: its items come next.
			IF walking IS NOT NULL THEN
				parents := parents || walking;
				parent_at := parent_at || at;
				parent_object := parent_object || walking_object;
			END IF;
			walking_object := kind = 'object';
			walking := CASE WHEN walking_object THEN jsonb_path_query_array(item, '$.keyvalue()') ELSE item END;
			at := 0;
		ELSE
			-- The item is complete: it joins its container, which may be complete in turn.
			LOOP
				IF walking IS NULL THEN
					RETURN out || '\x2e'::bytea; -- STOP (.)
				END IF;
				out := out || CASE WHEN walking_object THEN '\x73'::bytea ELSE '\x61'::bytea END; -- SETITEM (s), APPEND (a)
				EXIT WHEN at < jsonb_array_length(walking);
				IF cardinality(parents) = 0 THEN
					RETURN out || '\x2e'::bytea;
				END IF;
				walking := parents[cardinality(parents)];
				at := parent_at[cardinality(parent_at)];
				walking_object := parent_object[cardinality(parent_object)];
				parents := trim_array(parents, 1);
				parent_at := trim_array(parent_at, 1);
				parent_object := trim_array(parent_object, 1);
			END LOOP;
		END IF;
		IF walking_object THEN
			utf8 := convert_to(walking -> at ->> 'key', 'UTF8');
			out := out || '\x58'::bytea || celery_pickle_uint32(octet_length(utf8)) || utf8;
			item := walking -> at -> 'value';
		ELSE
			item := walking -> at;
		END IF;
		at := at + 1;
	END LOOP;
END
$$;
--> statement-breakpoint
-- An exception as Celery's JSON serializer stores it (BaseBackend.prepare_exception in
-- celery/backends/base.py): {exc_type, exc_message: args, exc_module}. exception_to_python
-- rebuilds it from exc_module: Python's built-in exception classes (those taking one
-- argument; not StopIteration) and Celery's time-limit, revocation and lost-worker errors
-- come back as themselves, so `except ValueError:` and `except SoftTimeLimitExceeded:` work;
-- any other name gets no module, so Celery makes an Exception subclass of that name and never
-- looks the name up in a module (where it could find something other than an exception class).
CREATE FUNCTION celery_exception(exc_type text, message text) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('exc_type', exc_type, 'exc_message', jsonb_build_array(message), 'exc_module', CASE
		WHEN exc_type = ANY ('{ArithmeticError,AssertionError,AttributeError,BlockingIOError,BrokenPipeError,BufferError,ChildProcessError,ConnectionAbortedError,ConnectionError,ConnectionRefusedError,ConnectionResetError,EOFError,Exception,FileExistsError,FileNotFoundError,FloatingPointError,ImportError,IndentationError,IndexError,InterruptedError,IsADirectoryError,KeyError,LookupError,MemoryError,ModuleNotFoundError,NameError,NotADirectoryError,NotImplementedError,OSError,OverflowError,PermissionError,ProcessLookupError,RecursionError,ReferenceError,RuntimeError,SyntaxError,SystemError,TabError,TimeoutError,TypeError,UnboundLocalError,UnicodeError,ValueError,ZeroDivisionError}'::text[]) THEN 'builtins'
		WHEN exc_type IN ('SoftTimeLimitExceeded', 'TimeLimitExceeded', 'TaskRevokedError', 'WorkerLostError') THEN 'celery.exceptions'
	END)
$$;
--> statement-breakpoint
-- Our errors are `Name: message` (describeError in shared/errors.ts), after `retries exhausted
-- after N attempts: ` once the budget is spent (classify.ts): Celery's autoretry raises the
-- task's own exception then, and so does this. Anything else is an Exception with that text.
CREATE FUNCTION celery_exception_of(error text) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT celery_exception(coalesce(parts[1], 'Exception'), coalesce(parts[2], error, ''))
	FROM (SELECT regexp_match(error, '^(?:retries exhausted after \d+ attempts: )?([A-Za-z_$][A-Za-z0-9_$]*): (.*)$') AS parts) AS parsed
$$;
--> statement-breakpoint
-- Writes Celery's rows for these task_results rows, as Celery's backend would have stored
-- them (BaseBackend._get_result_meta, DatabaseBackend._update_result, mark_as_started,
-- mark_as_retry, mark_as_revoked; Celery 5.2.6), in one statement for the lot: an update
-- where the task has a row, an insert where not (so the sequence moves only for new tasks),
-- and the insert's conflict clause for a row another session added meanwhile. `settings`
-- is the trigger's: the stage (Celery's worker is the consumer function that ran the task,
-- `<stage>-consumer-<queue>`), the results bucket, and each catalogue task's Celery name.
-- Ids longer than Celery's task_id column are left out. PL/pgSQL keeps the statement's plan
-- for the session, where an SQL function would plan it again at every trigger's call.
CREATE FUNCTION celery_taskmeta_put(tasks task_results[], settings jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	WITH entry AS (
		SELECT
			t.id AS task_id,
			t.status,
			celery_pickle(CASE t.status
				-- A result kept in the results bucket (overflow_key) is named, not copied: see docs/celery-results.md.
				WHEN 'SUCCESS' THEN CASE WHEN t.result IS NULL AND t.overflow_key IS NOT NULL
					THEN jsonb_build_object('result_overflow', jsonb_build_object('bucket', settings -> 'bucket', 'key', t.overflow_key))
					ELSE t.result END
				-- mark_as_started stores {pid, hostname}; the consumer has no process id to give.
				WHEN 'STARTED' THEN jsonb_build_object('pid', NULL, 'hostname', w.worker)
				-- mark_as_revoked stores TaskRevokedError(reason); ours is the error column ('expired', or revoke's reason).
				WHEN 'REVOKED' THEN celery_exception('TaskRevokedError', coalesce(t.error, 'revoked'))
				-- FAILURE stores the exception, RETRY the exception it retries for.
				WHEN 'FAILURE' THEN celery_exception_of(t.error)
				WHEN 'RETRY' THEN celery_exception_of(t.error)
			END) AS result,
			-- Celery's date_done: naive UTC, set for the ready states only (ours is null for the others too).
			t.date_done AT TIME ZONE 'UTC' AS date_done,
			t.traceback,
			left(coalesce(settings -> 'names' ->> t.name, nullif(t.name, '')), 155) AS name,
			-- With the JSON serializer args and kwargs are its bytes; our payload is the task's kwargs.
			CASE jsonb_typeof(t.payload) WHEN 'object' THEN convert_to('[]', 'UTF8') WHEN 'array' THEN convert_to(t.payload::text, 'UTF8') END AS args,
			CASE jsonb_typeof(t.payload) WHEN 'object' THEN convert_to(t.payload::text, 'UTF8') WHEN 'array' THEN convert_to('{}', 'UTF8') END AS kwargs,
			w.worker,
			-- Celery's request.retries: 0 at the first run. A redrive from the DLQ starts the count afresh, as its budget does.
			greatest(t.attempts - t.attempt_base - 1, 0) AS retries,
			left(nullif(t.queue, ''), 155) AS queue
		FROM unnest(tasks) AS t
		CROSS JOIN LATERAL (SELECT CASE WHEN t.queue <> '' THEN left(concat(settings ->> 'stage', '-consumer-', t.queue), 155) END AS worker) AS w
		WHERE char_length(t.id) <= 155
	),
	updated AS (
		UPDATE celery_taskmeta c SET status = e.status, result = e.result, date_done = e.date_done, traceback = e.traceback,
			name = e.name, args = e.args, kwargs = e.kwargs, worker = e.worker, retries = e.retries, queue = e.queue
		FROM entry e WHERE c.task_id = e.task_id
		RETURNING c.task_id
	)
	INSERT INTO celery_taskmeta AS c (id, task_id, status, result, date_done, traceback, name, args, kwargs, worker, retries, queue)
	SELECT nextval('task_id_sequence'), e.task_id, e.status, e.result, e.date_done, e.traceback, e.name, e.args, e.kwargs, e.worker, e.retries, e.queue
	FROM entry e WHERE e.task_id NOT IN (SELECT task_id FROM updated)
	ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, result = excluded.result, date_done = excluded.date_done,
		traceback = excluded.traceback, name = excluded.name, args = excluded.args, kwargs = excluded.kwargs,
		worker = excluded.worker, retries = excluded.retries, queue = excluded.queue;
END
$$;
--> statement-breakpoint
-- The statement triggers' function: every statement that writes task_results writes Celery's
-- rows in the same transaction, so no consumer, driver or Data API call does anything more.
-- A failure here is a WARNING in the server's log and leaves Celery's rows behind; it never
-- fails the task's own record. The search path is the migration's, so the tables are found
-- whatever the session's.
CREATE FUNCTION celery_taskmeta_sync() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	tasks task_results[];
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM celery_taskmeta WHERE task_id IN (SELECT id FROM old_rows);
		RETURN NULL;
	END IF;
	-- An upsert fires both the insert and the update trigger, one of them often for no row.
	tasks := ARRAY(SELECT r FROM new_rows r);
	IF cardinality(tasks) > 0 THEN
		PERFORM celery_taskmeta_put(tasks, TG_ARGV[0]::jsonb);
	END IF;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'celery_taskmeta was not kept in step with task_results (%): %', SQLSTATE, SQLERRM;
	RETURN NULL;
END
$$;
--> statement-breakpoint
-- The switch (CELERY_RESULTS, applied by the migration step): the triggers exist only where it is on.
-- Transition tables need one trigger per event.
CREATE FUNCTION celery_results_enable(settings jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('CREATE OR REPLACE TRIGGER celery_taskmeta_inserted AFTER INSERT ON task_results REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION celery_taskmeta_sync(%L)', settings);
	EXECUTE format('CREATE OR REPLACE TRIGGER celery_taskmeta_updated AFTER UPDATE ON task_results REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION celery_taskmeta_sync(%L)', settings);
	CREATE OR REPLACE TRIGGER celery_taskmeta_deleted AFTER DELETE ON task_results REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION celery_taskmeta_sync();
	RETURN true;
END
$$;
--> statement-breakpoint
-- Off: Celery's rows stay as they were last written. Both return true (a void column is no value the Data API can answer with).
CREATE FUNCTION celery_results_disable() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	DROP TRIGGER IF EXISTS celery_taskmeta_inserted ON task_results;
	DROP TRIGGER IF EXISTS celery_taskmeta_updated ON task_results;
	DROP TRIGGER IF EXISTS celery_taskmeta_deleted ON task_results;
	RETURN true;
END
$$;
--> statement-breakpoint
-- Writes Celery's rows for the tasks recorded before the switch was turned on, one batch per
-- call in task id order; true once every row is done. How far it got is the update
-- trigger's comment, so a backfill cut short goes on from there, and turning the switch
-- off and on again (dropping the trigger) starts it afresh. Each row is locked while it is
-- copied, so a task's own write waits and then writes the newer values.
CREATE FUNCTION celery_results_backfill(settings jsonb, batch_size integer) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	progress text := (SELECT obj_description(t.oid, 'pg_trigger') FROM pg_trigger t WHERE t.tgrelid = 'task_results'::regclass AND t.tgname = 'celery_taskmeta_updated');
	batch task_results[];
BEGIN
	IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = 'task_results'::regclass AND t.tgname = 'celery_taskmeta_updated') THEN
		RAISE EXCEPTION 'Celery results are off: call celery_results_enable first';
	END IF;
	IF progress = 'backfilled' THEN
		RETURN true;
	END IF;
	batch := ARRAY(
		SELECT r FROM task_results r WHERE r.id > coalesce(substring(progress FROM '^backfilled up to (.*)$'), '')
		ORDER BY r.id LIMIT batch_size FOR SHARE
	);
	PERFORM celery_taskmeta_put(batch, settings);
	progress := CASE WHEN cardinality(batch) < batch_size THEN 'backfilled' ELSE 'backfilled up to ' || (batch[cardinality(batch)]).id END;
	EXECUTE format('COMMENT ON TRIGGER celery_taskmeta_updated ON task_results IS %L', progress);
	RETURN progress = 'backfilled';
END
$$;
