-- A model asset can hold several models (models/zl_baselines: climatology, vol_climatology):
-- the registry names the model each version belongs to.
ALTER TABLE training.model_registry ADD COLUMN IF NOT EXISTS model VARCHAR;
