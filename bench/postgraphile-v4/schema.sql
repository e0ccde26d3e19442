-- What PostGraphile v4 serves for cmd/loadsubs -peer postgraphile-v4: a
-- feedback table whose inserts are announced on their topic, as simple
-- subscriptions (@graphile/pg-pubsub) expect: the event names the row's
-- node, which PostGraphile then loads for each subscriber's relatedNode.
drop table if exists feedbacks;
create table feedbacks (
  id            serial primary key,
  topic         text not null,
  status        text not null default 'PENDING',
  feedback_text text not null
);
create or replace function feedbacks_announce() returns trigger language plpgsql as $$
begin
  perform pg_notify('postgraphile:' || NEW.topic,
    json_build_object('__node__', json_build_array('feedbacks', NEW.id))::text);
  return NEW;
end $$;
create trigger feedbacks_announce after insert on feedbacks
  for each row execute function feedbacks_announce();
