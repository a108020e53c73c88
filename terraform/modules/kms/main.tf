# The stack's customer-managed key: encrypts the buckets, log groups, database and backups.
# Yearly automatic rotation; the policy lets the account administer it and CloudWatch Logs use it.
resource "aws_kms_key" "this" {
  description             = "PetSwipe ${var.name} data key"
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_days
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# Rendered locally (no API call), so plans work without credentials.
data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109:a key policy's Resource "*" means this key only; the account root must administer it
  # checkov:skip=CKV_AWS_111:a key policy's Resource "*" means this key only; writes are limited to the account root
  # checkov:skip=CKV_AWS_356:a key policy's Resource "*" means this key only
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${var.account_id}:log-group:*"]
    }
  }
}
