-- Reverts the work orders.
DROP TABLE work_orders;
